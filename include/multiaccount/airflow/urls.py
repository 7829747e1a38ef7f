"""URL paths the Airflow seam shares (kept apart so DAG files do not import the FastAPI report app)."""

URL_PREFIX = "/multiaccount-reports"
