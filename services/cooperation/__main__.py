"""``python -m services.cooperation``: serve the cooperation service."""

from services.cooperation.app import create_app
from services.cooperation.settings import CooperationSettings
from shared.app import serve

settings = CooperationSettings()
serve(create_app(settings), settings, "cooperation")
