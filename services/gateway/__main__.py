"""``python -m services.gateway``: serve the gateway service."""

from services.gateway.app import create_app
from services.gateway.settings import GatewaySettings
from shared.app import serve

settings = GatewaySettings()
serve(create_app(settings), settings, "gateway")
