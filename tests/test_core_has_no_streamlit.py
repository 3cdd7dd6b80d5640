import subprocess
import sys

CODE = """
import importlib, pkgutil, sys
import core
for mod in pkgutil.walk_packages(core.__path__, 'core.'):
    importlib.import_module(mod.name)
bad = sorted(m for m in sys.modules if m == 'streamlit' or m.startswith('streamlit.'))
print(len(list(pkgutil.walk_packages(core.__path__, 'core.'))))
sys.exit(1 if bad else 0)
"""


def test_importing_every_core_module_never_imports_streamlit():
    # In a fresh interpreter, so nothing imported by other tests can hide a violation.
    proc = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert int(proc.stdout.strip()) >= 10  # really walked the package
