# The goal17 image used by compose.yaml for every role (web, schedule, db migrate).
FROM python:3.11-slim

RUN useradd --create-home --uid 10017 goal17
WORKDIR /srv/goal17
COPY pyproject.toml README.md ./
COPY pipeline ./pipeline
RUN pip install --no-cache-dir . && chown goal17:goal17 /srv/goal17
USER goal17
# The roles' commands are in compose.yaml; without one, show what there is.
CMD ["python", "-m", "pipeline", "--help"]
