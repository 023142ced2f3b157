<?php
// P4x (bench/bench.py): as index.php, then run the handler /bin/true with the event as its
// argument via exec() (which goes through /bin/sh -c, as PHP always does).
$payload = json_decode(file_get_contents('php://input'), true);
if (!is_array($payload)) {
    http_response_code(400);
    header('Content-Type: application/json');
    echo '{"error":"bad json"}';
    exit;
}
$event = (string)($payload['event'] ?? '');
exec('/bin/true ' . escapeshellarg($event), $out, $rc);
header('Content-Type: application/json');
echo json_encode(['received' => true]);
