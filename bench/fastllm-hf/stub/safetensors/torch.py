from . import read as load_file  # noqa: F401
