"""DAG file parse time (issue 8: under 1 s per file), against a trivial DAG parsed in the same run.

Each file is parsed the way the dag-processor does it, in a fresh interpreter with Airflow already
imported (the processor's steady state), so what is measured is the DAG file's own top-level cost.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 1.0

PROBE = r"""
import json, sys, time, importlib.util
import airflow.sdk  # the dag-processor has Airflow imported already
from airflow.dag_processing.dagbag import DagBag  # noqa: F401
out = {}
for path in sys.argv[1:]:
    t0 = time.perf_counter()
    spec = importlib.util.spec_from_file_location("dagfile_" + str(abs(hash(path))), path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out[path] = time.perf_counter() - t0
print(json.dumps(out))
"""

TRIVIAL = '''
import pendulum
from airflow.sdk import dag, task

@dag(schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False)
def trivial():
    @task
    def noop():
        return 1
    noop()

trivial()
'''


def _parse(paths: list[Path]) -> dict[str, float]:
    result = subprocess.run([sys.executable, "-c", PROBE, *map(str, paths)], capture_output=True, text=True,
                            cwd=ROOT, timeout=600, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> list[dict]:
    dag_files = sorted((ROOT / "dags").glob("*.py"))
    with tempfile.TemporaryDirectory() as tmp:
        trivial = Path(tmp) / "trivial_dag.py"
        trivial.write_text(TRIVIAL)
        # each DAG file in its own interpreter: the first file of a process would pay shared imports
        times = {}
        for f in dag_files:
            times.update(_parse([trivial, f]))
        baseline = _parse([trivial])[str(trivial)]
    rows = []
    print(f"{'dag file':<24}{'parse s':>10}{'x trivial':>12}")
    for f in dag_files:
        t = times[str(f)]
        rows.append({"benchmark": f"parse {f.name} (s)", "value": t, "baseline": baseline,
                     "ratio": t / baseline if baseline else None, "target": f"< {TARGET_SECONDS:.0f} s",
                     "ok": t < TARGET_SECONDS})
        print(f"{f.name:<24}{t:>10.3f}{t / baseline:>12.1f}")
    return rows


if __name__ == "__main__":
    main()
