"""The web app's backend-for-frontend: serves the single-page app, signs people in and
forwards ``/api/<service>/…`` to the four services with the member's credential."""
