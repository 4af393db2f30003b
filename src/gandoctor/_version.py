"""The version, in a module of its own so that modules can name it without importing the
package root (whose lazy public API would close an import cycle)."""

__version__ = "0.1.0"
