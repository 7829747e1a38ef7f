# One image for every Airflow component, the realtime service and the dashboard.
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 AIRFLOW_HOME=/opt/airflow MULTIACCOUNT_HOME=/opt/multiaccount/var
RUN apt-get update && apt-get install -y --no-install-recommends build-essential libpq-dev tini \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --uid 50000 --create-home --home-dir /opt/airflow airflow
WORKDIR /opt/multiaccount
COPY requirements-lock.txt ./
RUN pip install --no-cache-dir -r requirements-lock.txt
COPY pyproject.toml README.md ./
COPY include ./include
COPY config ./config
COPY dags ./dags
COPY plugins ./plugins
RUN pip install --no-cache-dir --no-deps -e . && mkdir -p "$MULTIACCOUNT_HOME" && chown -R airflow /opt/multiaccount
USER airflow
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["airflow", "version"]
