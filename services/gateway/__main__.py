"""``python -m services.gateway``: serve the gateway service."""

from services.gateway.app import create_app
from services.gateway.settings import GatewaySettings
from shared.app import serve

settings = GatewaySettings()
app = create_app(settings)
app.state.freeze_gc = True
serve(app, settings, "gateway")
