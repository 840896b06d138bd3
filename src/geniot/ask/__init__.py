"""Ask the plant: questions in English or German, answered with numbers, a summary and a plot.

Offline by default (MiniLM intent routing and a slot parser); an OpenAI-compatible LLM endpoint
can be configured instead (``GENIOT_LLM_URL``) and gets the same typed tools.
"""

from geniot.ask.answer import Answer
from geniot.ask.assistant import PlantAssistant, detect_language
from geniot.ask.plant import PlantView

__all__ = ["Answer", "PlantAssistant", "PlantView", "detect_language"]
