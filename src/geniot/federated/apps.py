"""The app objects Flower loads by name in the real-process mode (``[tool.flwr.app.components]``).

Importing this module imports Flower; nothing else in geniot does until it is needed.
"""

from geniot.federated.client_app import make_client_app
from geniot.federated.server_app import make_server_app

client_app = make_client_app()
server_app = make_server_app()
