"""The files the rows use, and the shipped examples' two locations."""
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent
ROOT = BENCH.parent
BODY = BENCH / "body.json"
POST_LUA = BENCH / "lua/post.lua"          # the same body every request: the duplicate path
UNIQUE_LUA = BENCH / "lua/post-unique.lua"  # a new uploadId every request: the new-delivery path
NGINX_EXAMPLE = ROOT / "nginx.conf.example"
LIGHTTPD_EXAMPLE = ROOT / "lighttpd.conf.example"
CGI_PATH = "/hooks/streampixel"             # the examples' CGI location
FASTCGI_PATH = "/hooks/streampixel-fastcgi"  # the examples' FastCGI location
