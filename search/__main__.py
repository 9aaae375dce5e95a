"""Entry point for `python -m search`."""

import os
import sys

from search.cli import main

code = main()
# Leave without the interpreter's teardown: freeing every object of torch, spaCy and the tokenizer
# took about a second after the answer was printed. Nothing here needs it: the output is flushed
# first, and every file a command writes is complete and swapped in before it returns.
try:
    sys.stdout.flush()
    sys.stderr.flush()
except OSError:  # a closed pipe (`| head`): the answer is not wanted any more
    pass
os._exit(code)
