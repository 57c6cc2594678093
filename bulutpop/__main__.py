import sys

from bulutpop.cli import main

sys.exit(main())
