"""What the stand-ins of this folder give for a name the real library has: a placeholder
that can be imported, named and subclassed, and says when used that the library is not
there (the code that uses it is not what verify checks)."""


class _Unavailable(type):
    def __getattr__(cls, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        return placeholder(cls.__module__, f"{cls.__qualname__}.{attr}")

    def __call__(cls, *args, **kwargs):
        raise RuntimeError(f"{cls.__module__} is not installed where verify checks the "
                           f"module ({cls.__module__}.{cls.__qualname__} cannot be used)")


def placeholder(library: str, name: str):
    """A placeholder for ``library.name``: importing it works, calling it raises."""
    return _Unavailable(name.rsplit(".", 1)[-1], (), {"__module__": library,
                                                       "__qualname__": name})
