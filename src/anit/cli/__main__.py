"""``python -m anit.cli``: the same as the ``anit`` command (used with accelerate launch and torchrun)."""

from anit.cli import main

main()
