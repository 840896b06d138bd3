"""Requests to act on the machines or the data ("shut down P-2", "Stell die Drehzahl von P-1 auf
1500", "lösche die Daten", "acknowledge the alarm"), in English and German.

geniot only reads and analyses, so these are refused as such before any slot is asked for. A
what-if ("what if we raise the speed by 10%", "was passiert, wenn wir die Drehzahl senken") is a
simulation, not an action, and a question about the past ("when was P-1 restarted?") is a question.
"""

from __future__ import annotations

import re

# Words that always mean doing something to a machine, an alarm or the stored data.
_ALWAYS = re.compile(
    r"\b(?:delete|remove|erase|wipe|truncate|drop\s+table|shut\s*down|shutdown|turn\s+(?:it\s+|\w+\s+)?(?:off|on)|"
    r"switch\s+(?:it\s+|\w+\s+)?(?:off|on)|power\s+(?:off|on|down|up|cycle)|restart|reboot|acknowledge|ack\s+the|"
    r"reset\s+the|clear\s+the\s+alarms?|open\s+the\s+valve|close\s+the\s+valve|emergency\s+stop|e-stop|"
    r"lösch\w*|entfern\w*|abschalt\w*|ausschalt\w*|einschalt\w*|anschalt\w*|herunterfahr\w*|runterfahr\w*|hochfahr\w*|"
    r"neustart\w*|neu\s+starten|quittier\w*|zurücksetz\w*|überschreib\w*|not-?aus|notstopp)\b",
    re.IGNORECASE,
)
# Imperatives at the start ("set ...", "stell ...", "please reduce ..."), and "can you ..." forms.
_VERBS = (
    r"set|change|adjust|modify|update|edit|insert|overwrite|calibrate|start|stop|halt|increase|raise|"
    r"lower|reduce|decrease|speed\s+up|slow\s+down|send|email|mail|notify|order|buy|book|call|schedule|"
    r"stell\w*|setz\w*|schalt\w*|änder\w*|fahr\w*|start\w*|stopp\w*|halt\w*|öffne\w*|schließ\w*|erhöh\w*|senk\w*|reduzier\w*|"
    r"verringer\w*|drossel\w*|kalibrier\w*|send\w*|schick\w*|benachrichtig\w*|bestell\w*|kauf\w*|buch\w*|ruf\w*|"
    r"aktualisier\w*|bestätig\w*"
)
_IMPERATIVE = re.compile(rf"^\s*(?:(?:please|bitte)\s+)?(?:{_VERBS})\b", re.IGNORECASE)
_POLITE = re.compile(
    rf"\b(?:can|could|would|will)\s+you\s+(?:please\s+)?(?:{_VERBS})\b|"
    rf"\b(?:kannst|könntest|können|könnten|würdest|würden)\s+(?:du|sie)\b.*\b(?:ein|ab|aus|an|um|hoch|herunter|zurück)?"
    rf"(?:stellen|setzen|ändern|fahren|starten|stoppen|öffnen|schließen|erhöhen|senken|reduzieren|verringern|drosseln|"
    rf"kalibrieren|senden|schicken|bestellen|kaufen|buchen|anrufen|eintragen|bestätigen)\b|"
    rf"\bbitte\b.*\b(?:ein|ab|aus|an|um|hoch|herunter|zurück)?(?:stellen|setzen|ändern|fahren|starten|stoppen|erhöhen|senken|reduzieren)\b",
    re.IGNORECASE,
)
# A simulation or a question about what happened is not an action.
_WHATIF = re.compile(
    r"\b(?:what\s+if|what\s+happens|what\s+would|if\s+we|if\s+the|if\s+i|suppose|assum\w*|simulat\w*|effect\s+of|impact\s+of|"
    r"would|was\s+wäre|was\s+passiert|wenn|falls|angenommen|simulier\w*|würde\w*|auswirkung\w*)\b",
    re.IGNORECASE,
)
_PAST_QUESTION = re.compile(
    r"^\s*(?:was|were|did|has|had|when|why|how\s+often|how\s+many|which|wann|wurde|wurden|warum|wie\s+oft|wie\s+viele|welche\w*|"
    r"ist|war|hat|hatte)\b.*\b(?:\w+ed|\w*ge\w+t|down|off|shut|gestoppt|abgeschaltet|gelöscht|quittiert|neu\s+gestartet)\b",
    re.IGNORECASE,
)
_ORDER_WORDS = re.compile(r"^\s*(?:order|bestell\w*|kauf\w*|buy|book|buch\w*|send|schick\w*|email|mail|call|ruf\w*)\b", re.IGNORECASE)


def is_action_request(question: str) -> bool:
    """Whether the question asks geniot to change a machine, an alarm or the data (or to do errands)."""
    if _PAST_QUESTION.search(question):
        return False
    if _ALWAYS.search(question):
        return True
    if _ORDER_WORDS.search(question):
        return True
    if _WHATIF.search(question):
        return False
    return bool(_IMPERATIVE.search(question) or _POLITE.search(question))
