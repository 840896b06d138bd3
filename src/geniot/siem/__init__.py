"""Events leaving geniot for a SIEM: CEF and ECS JSON lines, RFC 5424 syslog over TCP and UDP.

Works on plain event records (mappings with the stored event fields), so that process events
and security events leave the same way; imports nothing above the data layer.
"""

from geniot.siem.messages import FORMATS, event_line, event_syslog
from geniot.siem.record import EventRecord, event_record
from geniot.siem.sender import SyslogSender
from geniot.siem.syslog5424 import local_hostname
from geniot.siem.target import SyslogTarget

__all__ = ["FORMATS", "EventRecord", "SyslogSender", "SyslogTarget", "event_line", "event_record", "event_syslog", "local_hostname"]
