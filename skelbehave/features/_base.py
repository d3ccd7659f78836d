"""A scikit-learn compatible estimator base that does not import scikit-learn.

Importing ``sklearn.base`` costs about a second; the feature transformer must
load and run in less. This mixin gives ``get_params`` / ``set_params`` /
``fit_transform`` / ``__repr__`` with scikit-learn semantics (so ``clone``,
``Pipeline`` and ``GridSearchCV`` work) and builds scikit-learn tags lazily,
only when scikit-learn itself asks for them (it is then already imported).
"""

from __future__ import annotations

import inspect
from typing import Any

from ..errors import ParameterError


class ParamsMixin:
    """``get_params`` / ``set_params`` from the ``__init__`` signature, like ``BaseEstimator``."""

    @classmethod
    def _get_param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return sorted(p.name for p in sig.parameters.values() if p.name != "self" and p.kind != p.VAR_KEYWORD)

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Parameters of this estimator (scikit-learn convention)."""
        out = {}
        for name in self._get_param_names():
            value = getattr(self, name)
            out[name] = value
            if deep and hasattr(value, "get_params") and not isinstance(value, type):
                for k, v in value.get_params().items():
                    out[f"{name}__{k}"] = v
        return out

    def set_params(self, **params: Any):
        """Set parameters (scikit-learn convention); returns ``self``."""
        valid = set(self._get_param_names())
        for key, value in params.items():
            name, _, sub = key.partition("__")
            if name not in valid:
                raise ParameterError(
                    f"invalid parameter {name!r} for {type(self).__name__}; valid parameters: {sorted(valid)}"
                )
            if sub:
                getattr(self, name).set_params(**{sub: value})
            else:
                setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        defaults = {
            p.name: p.default
            for p in inspect.signature(type(self).__init__).parameters.values()
            if p.name != "self"
        }
        changed = []
        for k in self._get_param_names():
            v = getattr(self, k)
            d = defaults.get(k, inspect.Parameter.empty)
            try:
                same = v is d or bool(v == d)
            except Exception:  # arrays and the like
                same = False
            if not same:
                changed.append(f"{k}={v!r}")
        return f"{type(self).__name__}({', '.join(changed)})"

    def __sklearn_tags__(self):
        from sklearn.base import BaseEstimator, TransformerMixin

        class _Proxy(TransformerMixin, BaseEstimator):
            pass

        tags = _Proxy().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        tags.requires_fit = True
        return tags


class TransformerBase(ParamsMixin):
    """``fit_transform`` = ``fit`` then ``transform``."""

    def fit_transform(self, X, y=None, **fit_params):
        """Fit, then transform ``X``."""
        return self.fit(X, y, **fit_params).transform(X)
