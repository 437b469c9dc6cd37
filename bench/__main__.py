import sys

from bench.run import main

# Guarded: the verifying processes of the login benchmark are spawned and import modules anew.
if __name__ == "__main__":
    sys.exit(main())
