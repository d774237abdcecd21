"""`python -m services.web`: run the web app's backend-for-frontend (settings from the
environment: ``services/web/settings.py``)."""

import os

import uvicorn

from services.web.app import create_app
from services.web.settings import WebSettings
from shared import logs

if __name__ == "__main__":
    logs.configure("web")
    settings = WebSettings.from_env(os.environ)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None,
                access_log=False)
