"""The ML team's text classifier, free of Flask, Celery and database imports.

Kept import-light on purpose: config validates CLASSIFIER against CLASSIFIER_NAMES without
paying for scikit-learn. The algorithm lives in `text_classifier`, prediction in `predictors`.
"""

CLASSIFIER_NAMES = ("linear_svc", "svc")
