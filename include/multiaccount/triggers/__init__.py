"""Airflow triggers. They live in the installed package (not the DAG folder) because the triggerer
imports them by class path (Airflow issues #65455, #36510). Only this package and dags/ import Airflow."""
