"""Publishing: the builds that put files into an output folder atomically, and what follows a publish."""
