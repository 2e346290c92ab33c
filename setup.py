from setuptools import setup

# Everything else is in pyproject.toml; cffi's build hook needs setup().
setup(cffi_modules=["cdriver/build_ffi.py:ffibuilder"])
