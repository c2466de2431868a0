"""``make bench``: the speed benchmark, then the quality benchmark, each writing to docs/."""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
for script in ("speed.py", "quality.py"):
    subprocess.run([sys.executable, str(HERE / script), *sys.argv[1:]], check=True)
