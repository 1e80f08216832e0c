FROM python:3.11-slim-bookworm
# WeasyPrint needs Pango (>= 1.44), HarfBuzz and fontconfig; the fonts letters embed ship in static/fonts.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b fontconfig make \
 && rm -rf /var/lib/apt/lists/*
ENV UV_PYTHON_DOWNLOADS=never UV_PROJECT_ENVIRONMENT=/venv PATH="/venv/bin:$PATH" PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=attendance_app.settings.production
RUN pip install --no-cache-dir uv==0.13.8
WORKDIR /app
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev
COPY . .
# Build-time placeholders only: production refuses to start without a secret and the passkey
# settings, and the real ones come from the environment at run time.
RUN export DJANGO_SECRET_KEY=collectstatic OTP_WEBAUTHN_RP_ID=build.invalid \
      OTP_WEBAUTHN_ALLOWED_ORIGINS=https://build.invalid \
 && python manage.py collectstatic --noinput \
 && python manage.py compilemessages_py
EXPOSE 8000
CMD ["gunicorn", "attendance_app.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
