"""pixel-tui: a terminal console for a Docker host and its short-lived worker containers."""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
import types

__version__ = "0.1.0"


class _OnFirstUse(types.ModuleType):
    """Stands in sys.modules for a module not loaded yet; the first attribute asked of it loads the real one.

    Not importlib's LazyLoader: on Python 3.11 any `import` of a LazyLoader module reads its `__spec__`,
    which loads it, so the docker SDK's own `import paramiko` would. Here `__spec__` is a plain attribute
    and only a missing one (`SSHClient`, `__path__`...) loads the module, once, under a lock.
    """

    _lock = threading.Lock()

    def __getattr__(self, attr: str) -> object:
        with self._lock:
            real = sys.modules.get(self.__name__)
            if real is self:
                del sys.modules[self.__name__]
                try:
                    real = importlib.import_module(self.__name__)
                except BaseException:
                    sys.modules[self.__name__] = self
                    raise
        return getattr(real, attr)


def _load_on_first_use(name: str) -> None:
    """Let `import name` bind a stand-in; the module loads when one of its attributes is first used.

    For paramiko: the docker SDK imports it whenever it is imported itself (docker.transport loads its
    ssh adapter eagerly), and paramiko with `cryptography` is 15 MB of memory and a sixth of the console's
    start-up, needed only for `ssh://` engines. docker's adapter uses paramiko only inside its methods, and
    pixel_tui.engine.ssh, the one module of ours that uses it, is imported only for an `ssh://` URL. This
    runs when the package is first imported, before anything of ours imports docker; a process that
    imported paramiko already keeps it as it is, and one without it gets the usual ImportError.
    """
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None:
        return
    stand_in = _OnFirstUse(name)
    stand_in.__spec__ = spec
    sys.modules[name] = stand_in


_load_on_first_use("paramiko")
