"""HTTP: the Flask app factory and blueprints (see the SPARQL and web issues)."""
