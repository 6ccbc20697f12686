"""Build of the somhop C extension.

The extension ``somhop._core`` is compiled from the binding
(``python/src/_core.c``) together with libsomhop's C sources
(``host/src/*.c`` of the repository this directory lives in), with the
same language level and warnings as the project's Makefile. It links the
system libraries libsomhop needs: libpng (PNG rendering), the OpenCL ICD
loader (accelerator backends), pthread and libm.
"""
import glob
import os

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.environ.get("SOMHOP_ROOT") or os.path.dirname(HERE)
if not os.path.isfile(os.path.join(ROOT, "host", "include", "somhop", "som.h")):
    raise SystemExit(
        "somhop: the C sources were not found at %s (build from a somhop checkout: "
        "pip install ./python, or set SOMHOP_ROOT to the checkout)" % ROOT)

lib_sources = sorted(glob.glob(os.path.join(ROOT, "host", "src", "*.c")))


class build_ext_with_lib(build_ext):
    """Adds libsomhop's sources (outside this directory, which setuptools'
    file lists refuse) to the extension only when it is compiled."""

    def build_extension(self, ext):
        ext.sources = list(ext.sources) + [s for s in lib_sources if s not in ext.sources]
        super().build_extension(ext)


ext = Extension(
    "somhop._core",
    sources=["src/_core.c"],
    include_dirs=[os.path.join(ROOT, d) for d in ("host/include", "kernels", "sim/include")],
    define_macros=[("_GNU_SOURCE", None)],
    extra_compile_args=["-std=c11", "-O2", "-Wall", "-Wextra", "-Wno-missing-field-initializers",
                        "-Wno-cast-function-type"],
    libraries=["png", "OpenCL", "pthread", "m"],
)

os.chdir(HERE)
setup(ext_modules=[ext], cmdclass={"build_ext": build_ext_with_lib})
