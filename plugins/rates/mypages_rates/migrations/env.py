from mypages.toolkit import run_env

run_env()
