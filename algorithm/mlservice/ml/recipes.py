"""The feature recipes a training chooses from: how texts become TF-IDF features.

No single recipe is best everywhere (measured on labelled sets this project had not seen, same
splits): a token pattern that keeps punctuation and one-letter words gained 7 points of accuracy
on short one-line texts and 0.5 on long descriptions at no extra fit time; adding character
n-grams (`char_wb`, 2-5) to the word TF-IDF gained 8 points on the short texts, 1-2.5 elsewhere,
at 10-20x the fit time on long descriptions. So a training evaluates each recipe on the same
evaluation rows and keeps the best (`text_classifier.train`), cheapest first, within a budget.

Every recipe is a TfidfVectorizer or a FeatureUnion of them: the shapes the fast predict path
(`predictors.TfidfFeatures`, `predictors.UnionFeatures`) replays exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion

# Words of one character and every punctuation mark become tokens too (scikit-learn's default,
# r"(?u)\b\w\w+\b", drops both).
PUNCTUATION_TOKEN_PATTERN = r"(?u)\b\w+\b|[^\w\s]"  # noqa: S105 - a regex, not a secret
CHAR_NGRAMS: dict[str, Any] = {"analyzer": "char_wb", "ngram_range": (2, 5)}


@dataclass(frozen=True)
class Recipe:
    """One way to turn texts into features, on top of the classifier's own word TF-IDF
    parameters (`base`: e.g. sublinear_tf)."""

    name: str
    description: str
    # Fit time relative to the `word` recipe, to skip a recipe that would not end within the
    # budget before spending it. The upper end of what was measured, so the estimate errs long.
    relative_cost: float
    token_pattern: str | None = None
    char_ngrams: bool = False

    def word_params(self, base: dict[str, Any]) -> dict[str, Any]:
        if self.token_pattern is None:
            return dict(base)
        return {**base, "token_pattern": self.token_pattern}

    def build_vectorizer(self, base: dict[str, Any]) -> TfidfVectorizer | FeatureUnion:
        """Unfitted features; a `max_features` in `base` caps each part's vocabulary."""
        word = TfidfVectorizer(**self.word_params(base))
        if not self.char_ngrams:
            return word
        return FeatureUnion([("word", word), ("char", TfidfVectorizer(**base, **CHAR_NGRAMS))])

    def as_parameters(self, base: dict[str, Any]) -> dict[str, Any]:
        """JSON-ready description of the vectorizer(s), for the model's metadata."""
        word = {"class": "TfidfVectorizer", **self.word_params(base)}
        if not self.char_ngrams:
            return word
        char = {"class": "TfidfVectorizer", **base, **CHAR_NGRAMS}
        char["ngram_range"] = list(char["ngram_range"])
        return {"class": "FeatureUnion", "word": word, "char": char}


RECIPES: tuple[Recipe, ...] = (
    Recipe("word", "word TF-IDF (scikit-learn's token pattern)", relative_cost=1.0),
    Recipe(
        "word_punct",
        "word TF-IDF keeping punctuation and one-letter words",
        relative_cost=1.2,
        token_pattern=PUNCTUATION_TOKEN_PATTERN,
    ),
    Recipe(
        "word_char",
        "word TF-IDF + character n-grams (char_wb, 2-5)",
        relative_cost=20.0,
        char_ngrams=True,
    ),
)
RECIPE_NAMES = tuple(recipe.name for recipe in RECIPES)


def get_recipes(names: tuple[str, ...] | None = None) -> tuple[Recipe, ...]:
    """The named recipes (all if None), cheapest first."""
    if names is None:
        return RECIPES
    unknown = sorted(set(names) - set(RECIPE_NAMES))
    if unknown:
        raise ValueError(f"Unknown recipe(s) {unknown}; choose from: {', '.join(RECIPE_NAMES)}.")
    return tuple(recipe for recipe in RECIPES if recipe.name in names)
