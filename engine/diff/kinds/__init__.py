"""Importing this package registers one handler per object kind (engine.diff.handler.register).

One module per family; each registers its handlers at import.
"""

import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
