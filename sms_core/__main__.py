import sys

from sms_core.cli import main

sys.exit(main())
