"""Words people use for signals, statistics and controls, in English and German.

A word ending in ``*`` also matches with any ending (German compounds and cases:
"Durchfluss*" matches "Durchflussdaten", "Durchflusses").

Signal names not listed here still match by their own name ("flow_m3h", "flow m3h") and by their
first word, so a store with other sensors works without editing this file.
"""

from __future__ import annotations

SIGNAL_WORDS: dict[str, tuple[str, ...]] = {
    "speed_rpm": ("rotational speed", "pump speed", "motor speed", "speed", "rpm", "drehzahl*", "geschwindigkeit", "umdrehungen"),
    "motor_current_a": ("motor current", "current draw", "current", "amps", "amperage", "motorstrom*", "stromaufnahme*", "strom"),
    "flow_m3h": ("flow rate", "flowrate", "flow", "throughput", "durchflussmenge", "durchfluss*", "förderstrom*", "fördermenge", "volumenstrom*"),
    "pressure_bar": ("discharge pressure", "pressure", "druck*", "förderdruck*"),
    "vibration_rms_mms": ("vibration level", "vibrations", "vibration", "vib", "schwingung*", "vibrationen"),
    "bearing_temp_c": ("bearing temperature", "bearing temp", "bearing", "lagertemperatur*", "lagertemp", "temperatur des lagers", "lager"),
    "motor_temp_c": ("motor temperature", "motor temp", "winding temperature", "motortemperatur*", "wicklungstemperatur*", "temperatur des motors"),
    "ambient_temp_c": ("ambient temperature", "ambient temp", "ambient", "room temperature", "outside temperature",
                       "umgebungstemperatur*", "raumtemperatur*", "außentemperatur*", "umgebung"),
}  # fmt: skip

# Words that name a family of signals without saying which one: the question is ambiguous.
AMBIGUOUS_SIGNAL_WORDS: dict[str, tuple[str, ...]] = {
    "temperature": ("bearing_temp_c", "motor_temp_c", "ambient_temp_c"),
    "temp": ("bearing_temp_c", "motor_temp_c", "ambient_temp_c"),
    "temperatur": ("bearing_temp_c", "motor_temp_c", "ambient_temp_c"),
    "temperaturen": ("bearing_temp_c", "motor_temp_c", "ambient_temp_c"),
}

STATISTIC_WORDS: dict[str, tuple[str, ...]] = {
    "mean": ("average", "avg", "mean", "typical", "durchschnitt*", "mittler*", "mittel", "mittelwert*", "schnitt"),
    "max": ("maximum", "max", "highest", "peak", "top", "largest", "höchst*", "maximal*", "spitzenwert*", "spitze",
            "größt*"),
    "min": ("minimum", "min", "lowest", "smallest", "least", "niedrigst*", "minimal*", "tiefst*", "kleinst*",
            "geringst*"),
    "std": ("standard deviation", "std", "stdev", "spread", "variability", "fluctuation", "standardabweichung",
            "streuung", "schwankung*"),
    "median": ("median", "zentralwert"),
}  # fmt: skip

# Weaker hints, used only when none of the words above is in the question.
STATISTIC_HINTS: dict[str, tuple[str, ...]] = {
    "max": ("how high", "how hot", "how warm", "how fast", "wie hoch", "wie heiß", "wie warm", "wie schnell"),
    "min": ("how low", "how cold", "how slow", "wie niedrig", "wie tief", "wie kalt", "wie langsam"),
}

STATISTIC_NAMES = {
    "en": {"mean": "average", "max": "maximum", "min": "minimum", "std": "standard deviation", "median": "median"},
    "de": {"mean": "Durchschnitt", "max": "Maximum", "min": "Minimum", "std": "Standardabweichung", "median": "Median"},
}

# Percentiles, as the statistic "p<q>" (p95, p99.9): "95th percentile", "p95", "percentile 95",
# "95. Perzentil", "95%-Quantil"; and the quartiles by name.
_Q = r"(\d{1,2}(?:[.,]\d+)?)"
PERCENTILE_PATTERNS = (
    rf"\b{_Q}\s*(?:st|nd|rd|th|\.)?\s*(?:%|prozent|percent)?\s*-?\s*(?:percentile|pctl|perzentil|quantile|quantil)s?\b",
    rf"\b(?:percentile|perzentil|quantile|quantil)\s+{_Q}\b",
    r"(?<![\w-])p(\d{1,2}(?:\.\d+)?)(?![\w-])",
)
QUARTILE_WORDS = {
    25.0: ("lower quartile", "first quartile", "unteres quartil", "unteren quartil", "untere quartil", "erstes quartil",
           "ersten quartil", "erste quartil"),
    75.0: ("upper quartile", "third quartile", "oberes quartil", "oberen quartil", "obere quartil", "drittes quartil",
           "dritten quartil", "dritte quartil"),
}


def percentile_statistic(q: float) -> str:
    return f"p{q:g}"


def percentile_of(statistic: str) -> float | None:
    """The q of a "p<q>" statistic (0 < q < 100), else None."""
    if not statistic.startswith("p"):
        return None
    try:
        q = float(statistic[1:])
    except ValueError:
        return None
    return q if 0 < q < 100 else None


def statistic_name(statistic: str, lang: str) -> str:
    q = percentile_of(statistic)
    if q is None:
        return STATISTIC_NAMES[lang][statistic]
    if lang == "de":
        return f"{q:g}. Perzentil"
    last = int(q) % 10 if q == int(q) and int(q) % 100 not in (11, 12, 13) else 0
    return f"{q:g}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(last, 'th') } percentile"

# Nouns in front of an asset number ("pump 3", "Pumpe 4", "asset P-2").
ASSET_NOUNS = ("pumps", "pump", "pumpen", "pumpe", "assets", "asset", "machines", "machine", "maschinen", "maschine",
               "units", "unit", "anlage", "anlagen", "aggregat")  # fmt: skip
ALL_ASSETS_WORDS = ("all pumps", "all assets", "every pump", "each pump", "the fleet", "whole plant", "all machines",
                    "alle pumpen", "allen pumpen", "jede pumpe", "alle anlagen", "alle maschinen", "gesamte anlage")  # fmt: skip

# The control a what-if changes when the question does not say (the simulator's pumps: speed).
DEFAULT_CONTROL = "speed_rpm"
# Direction of a change (regular expressions: stems with any ending).
LOWER_WORDS = (r"lower\w*", r"reduc\w*", r"decreas\w*", r"cut", r"drop\w*", r"slow\w*", r"down", r"less",
               r"senk\w*", r"gesenkt", r"reduzier\w*", r"verringer\w*", r"niedriger\w*", r"drossel\w*", r"weniger", r"minus")  # fmt: skip
