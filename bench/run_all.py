"""``make bench``: the speed benchmark, then the quality benchmark, each writing to docs/.

    python -m bench.run_all [options passed to each]
"""

import subprocess
import sys

for module in ("bench.speed", "bench.quality"):
    subprocess.run([sys.executable, "-m", module, *sys.argv[1:]], check=True)
