# Shows the environment and working directory the platform gave the process.
import os


def handler(event, context):
    return {"env": dict(os.environ), "cwd": os.getcwd()}
