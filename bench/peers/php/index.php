<?php
// P4 (bench/bench.py): the tiny shared-hosting receiver: decode the JSON body, answer 200.
$payload = json_decode(file_get_contents('php://input'), true);
if (!is_array($payload)) {
    http_response_code(400);
    header('Content-Type: application/json');
    echo '{"error":"bad json"}';
    exit;
}
$event = $payload['event'] ?? null;
header('Content-Type: application/json');
echo json_encode(['received' => true]);
