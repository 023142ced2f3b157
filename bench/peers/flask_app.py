"""P2 (bench/bench.py): the Flask receiver from Streampixel's docs, plus a P2' route that runs a
handler process per request.

  PORT=18091 python3 flask_app.py               # Flask dev server (app.run) on 127.0.0.1:$PORT
  gunicorn -w 2 -b 127.0.0.1:PORT flask_app:app  # the same app under gunicorn
"""
import os
import subprocess

from flask import Flask, jsonify, request

app = Flask(__name__)


def log_event(payload):
    event = payload.get('event')
    project_id = payload.get('projectId')
    upload_id = payload.get('uploadId')
    objection = payload.get('objection')

    print(f"Received event: {event} for project: {project_id}")

    if event == 'build.approved':
        print(f"Build {upload_id} approved. Triggering deployment...")
    elif event == 'build.rejected':
        print(f"Build {upload_id} rejected. Reason: {objection}")
    elif event == 'webhook.test':
        print("Test webhook received successfully!")
    return event


@app.route('/webhooks/streampixel', methods=['POST'])
def handle_webhook():
    log_event(request.get_json())
    return jsonify({"received": True}), 200


@app.route('/webhooks/streampixel-exec', methods=['POST'])
def handle_webhook_exec():
    """P2': the same, then run the handler /bin/true (no shell) before answering."""
    event = log_event(request.get_json())
    subprocess.run(["/bin/true", str(event)], check=False)
    return jsonify({"received": True}), 200


if __name__ == '__main__':
    app.run(host='127.0.0.1', port=int(os.environ.get('PORT', '18091')))
