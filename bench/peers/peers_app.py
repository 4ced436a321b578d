"""The peers' approach to serving the model, for the bench's comparison row.

Public implementations of this task load both pickles inside the request handler, so every
prediction pays for unpickling the vectorizer (its whole vocabulary) and the model. This app does
exactly that against the service's own current model and nothing else: no validation, no auth.
"""

import pickle
from pathlib import Path

from flask import Flask, jsonify, request

MODEL_DIR = Path("/models/current")

app = Flask(__name__)


@app.post("/predict")
def predict():
    text = request.get_json()["text"]
    with open(MODEL_DIR / "model.pickle", "rb") as handle:
        model = pickle.load(handle)
    with open(MODEL_DIR / "vectorizer.pickle", "rb") as handle:
        vectorizer = pickle.load(handle)
    probabilities = model.predict_proba(vectorizer.transform([text]))[0]
    labels = [str(label) for label in model.classes_]
    return jsonify(
        label=labels[int(probabilities.argmax())],
        probabilities={label: float(p) for label, p in zip(labels, probabilities, strict=True)},
    )
