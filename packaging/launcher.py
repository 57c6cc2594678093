"""The frozen app's entry point: PyInstaller runs this file as ``__main__``.

It is the ``bulutpop`` console script (``bulutpop.cli:main``) and nothing more, so the bundle
behaves exactly like ``python -m bulutpop``.
"""

import sys

from bulutpop.cli import main

if __name__ == "__main__":
    sys.exit(main())
