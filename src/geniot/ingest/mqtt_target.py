"""Where an MQTT broker is and how to reach it: one URL parser and one connector for every geniot
client (service ingest, alert publisher, ``geniot simulate --mqtt``, ``geniot-edge``).

    mqtt://host:1883 · tcp://host:1883 · host:1883       plain TCP (default port 1883)
    mqtts://user:pass@host:8883 · ssl://...               TLS (default port 8883)

The password may instead come from ``GENIOT_MQTT_PASSWORD`` (and the user name from
``GENIOT_MQTT_USERNAME``) so that it need not sit on a command line. A CA file (else the system's
CAs) and an optional client certificate and key go with TLS. The password is never printed or
returned: ``safe_url`` and ``repr`` leave it out.

Standard library only (paho is imported when a client is configured): ``geniot-edge`` uses this
module in an environment without pandas or torch.
"""

from __future__ import annotations

import os
import socket
import ssl
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

PLAIN_SCHEMES = ("mqtt", "tcp")
TLS_SCHEMES = ("mqtts", "ssl")
PASSWORD_ENV = "GENIOT_MQTT_PASSWORD"
USERNAME_ENV = "GENIOT_MQTT_USERNAME"


class MQTTConfigError(ValueError):
    """A broker URL or TLS file that cannot work; the message says which and why."""


class MQTTConnectError(ConnectionError):
    """The broker could not be reached, the TLS handshake failed or the broker refused us."""


@dataclass(frozen=True)
class MQTTTarget:
    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    topic: str = ""  # the URL's path, for tools that take one topic in the URL (geniot-edge)

    @classmethod
    def from_url(
        cls,
        url: str,
        ca_file: str | Path | None = None,
        cert_file: str | Path | None = None,
        key_file: str | Path | None = None,
        *,
        username: str | None = None,
        password: str | None = None,
        env: dict | None = None,
    ) -> MQTTTarget:
        """Parse ``url``; user and password in the URL win over ``username``/``password``, which
        win over ``GENIOT_MQTT_USERNAME``/``GENIOT_MQTT_PASSWORD`` (``env``, default os.environ)."""
        env = os.environ if env is None else env
        text = (url or "").strip()
        if not text:
            raise MQTTConfigError("MQTT URL is empty; expected mqtt://host:1883 or mqtts://user@host:8883")
        split = urlsplit(text if "://" in text else f"mqtt://{text}")
        scheme = split.scheme.lower()
        if scheme not in PLAIN_SCHEMES + TLS_SCHEMES:
            raise MQTTConfigError(
                f"MQTT URL {_redact(text)!r} has scheme {scheme!r}; use mqtt:// (or tcp://) for plain TCP or mqtts:// for TLS"
            )
        tls = scheme in TLS_SCHEMES
        try:
            port = split.port or (8883 if tls else 1883)
        except ValueError:
            raise MQTTConfigError(f"MQTT URL {_redact(text)!r} has no valid port (1-65535)") from None
        if not 0 < port < 65536:
            raise MQTTConfigError(f"MQTT URL {_redact(text)!r} has no valid port (1-65535)")
        host = split.hostname
        if not host:
            raise MQTTConfigError(f"MQTT URL {_redact(text)!r} names no host")
        if split.query or split.fragment:
            raise MQTTConfigError(f"MQTT URL {_redact(text)!r}: query strings are not understood; pass CA and certificate as options")
        user = unquote(split.username) if split.username else (username or env.get(USERNAME_ENV) or None)
        secret = unquote(split.password) if split.password is not None else (password or env.get(PASSWORD_ENV) or None)
        if secret is not None and not user:
            if split.password is not None or password:
                raise MQTTConfigError(f"MQTT URL {_redact(text)!r}: a password needs a user name (mqtts://user:pass@host)")
            secret = None  # a password in the environment alone is meant for URLs that name a user
        files = {name: _file(value, name) for name, value in (("CA file", ca_file), ("client certificate", cert_file), ("client key", key_file))}
        if not tls and any(files.values()):
            raise MQTTConfigError(f"a CA file or client certificate needs TLS: use mqtts://{host}:8883 instead of {scheme}://")
        if files["client key"] and not files["client certificate"]:
            raise MQTTConfigError("a client key needs its client certificate (--mqtt-cert)")
        return cls(host=host, port=port, tls=tls, username=user, password=secret, ca_file=files["CA file"],
                   cert_file=files["client certificate"], key_file=files["client key"], topic=split.path.lstrip("/"))  # fmt: skip

    @property
    def safe_url(self) -> str:
        """The URL without the password (for logs, health and messages)."""
        user = f"{quote(self.username, safe='')}@" if self.username else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        path = f"/{self.topic}" if self.topic else ""
        return f"{'mqtts' if self.tls else 'mqtt'}://{user}{host}:{self.port}{path}"

    def __str__(self) -> str:
        return self.safe_url

    def without_topic(self, what: str) -> MQTTTarget:
        """Refuse a topic in the URL where it would be ignored (``what`` names the option)."""
        if self.topic:
            raise MQTTConfigError(f"{what}: the MQTT URL {self.safe_url!r} names a topic; give the broker only (mqtt://host:port)")
        return self

    def ssl_context(self) -> ssl.SSLContext:
        try:
            ctx = ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)
        except (ssl.SSLError, OSError) as exc:
            raise MQTTConfigError(f"CA file {self.ca_file} is not a PEM certificate file: {exc}") from None
        if self.cert_file:
            try:
                ctx.load_cert_chain(str(self.cert_file), str(self.key_file) if self.key_file else None)
            except (ssl.SSLError, OSError) as exc:
                raise MQTTConfigError(f"client certificate {self.cert_file} / key {self.key_file} cannot be loaded: {exc}") from None
        return ctx


def _file(value: str | Path | None, what: str) -> Path | None:
    if value in (None, ""):
        return None
    path = Path(value).expanduser()
    if not path.is_file():
        raise MQTTConfigError(f"{what} {path} does not exist or is not a file")
    if not os.access(path, os.R_OK):
        raise MQTTConfigError(f"{what} {path} is not readable")
    return path


def _redact(url: str) -> str:
    """``url`` with any password replaced, for error messages about a URL that did not parse."""
    if "://" in url and "@" in url.split("://", 1)[1].split("/", 1)[0]:
        scheme, rest = url.split("://", 1)
        auth, _, tail = rest.partition("@")
        return f"{scheme}://{auth.split(':', 1)[0]}:***@{tail}" if ":" in auth else url
    return url


# ------------------------------------------------------------------ paho
def make_client(client_id: str, *, clean: bool = True, manual_ack: bool = False, v5: bool = False):
    """A paho client (callback API 2). ``v5`` speaks MQTT 5 (the ingest sets its own receive maximum)."""
    try:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion
    except ImportError:
        raise MQTTConfigError("paho-mqtt is not installed; install it with: pip install 'geniot[mqtt]'") from None
    if v5:
        return mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5, manual_ack=manual_ack)
    return mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=clean, manual_ack=manual_ack)


def apply_target(client, target: MQTTTarget) -> None:
    """Give ``client`` the target's credentials and TLS settings (before connecting)."""
    if target.username:
        client.username_pw_set(target.username, target.password)
    if target.tls:
        client.tls_set_context(target.ssl_context())


def refusal_words(reason_code) -> str:
    """A CONNACK refusal in words, with what to check."""
    text = str(reason_code)
    hints = {
        "Bad user name or password": "check the user name and password (GENIOT_MQTT_PASSWORD) against the broker's password_file",
        "Not authorized": "the broker does not allow this user (or anonymous clients); check password_file and acl_file",
        "Client identifier not valid": "another client id is needed",
        "Server unavailable": "the broker is not accepting connections right now",
    }
    hint = next((h for key, h in hints.items() if key.lower() in text.lower()), "")
    return f"broker refused the connection: {text}" + (f" ({hint})" if hint else "")


def diagnose(target: MQTTTarget, timeout: float = 3.0) -> str:
    """Why a connection attempt failed, found by opening the socket (and TLS) ourselves: paho's
    retry loop only says that it failed."""
    where = f"{target.host}:{target.port}"
    try:
        sock = socket.create_connection((target.host, target.port), timeout=timeout)
    except OSError as exc:
        return f"cannot reach broker {where}: {exc.strerror or exc}"
    try:
        if target.tls:
            try:
                with target.ssl_context().wrap_socket(sock, server_hostname=target.host) as tls_sock:
                    tls_sock.settimeout(timeout)
            except ssl.SSLCertVerificationError as exc:
                return f"TLS handshake with {where} failed: the broker's certificate is not trusted ({exc.verify_message}); check the CA file"
            except (ssl.SSLError, OSError) as exc:
                return f"TLS handshake with {where} failed: {exc}"
            return f"connection to {where} failed after the TLS handshake succeeded (is it an MQTT listener?)"
        return f"connection to {where} failed (the port answers; is it a TLS listener? then use mqtts://)"
    finally:
        sock.close()


def connect_blocking(client, target: MQTTTarget, *, keepalive: int = 30, timeout: float = 10.0, properties=None) -> None:
    """Connect, start the network thread and wait for the broker's answer; raise
    :class:`MQTTConnectError` in words when it is unreachable, the TLS handshake fails or it refuses."""
    apply_target(client, target)
    answered = threading.Event()
    outcome: dict = {}
    previous = client.on_connect

    def on_connect(c, userdata, flags, reason_code, props):
        outcome["rc"] = reason_code
        answered.set()
        if previous is not None and not reason_code.is_failure:
            previous(c, userdata, flags, reason_code, props)

    client.on_connect = on_connect
    try:
        client.connect(target.host, target.port, keepalive=keepalive, properties=properties)
    except ssl.SSLCertVerificationError as exc:
        raise MQTTConnectError(f"TLS handshake with {target.host}:{target.port} failed: the broker's certificate is not trusted ({exc.verify_message}); check the CA file") from None
    except OSError:  # refused, unreachable, or reset during the TLS handshake: look again to say which
        raise MQTTConnectError(diagnose(target)) from None
    client.loop_start()
    if not answered.wait(timeout):
        client.loop_stop()
        raise MQTTConnectError(f"broker {target.safe_url} did not answer the MQTT connect within {timeout:.0f} s")
    client.on_connect = previous
    if outcome["rc"].is_failure:
        client.loop_stop()
        client.disconnect()
        raise MQTTConnectError(f"{target.safe_url}: {refusal_words(outcome['rc'])}")
