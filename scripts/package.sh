#!/usr/bin/env bash
# Release artifacts, after `bash scripts/setup-and-demo.sh` (prints their paths):
#   dist/pixelhook-VERSION-linux-x86_64.tar.gz  the static binary, examples, snippets, README, docs/
#   dist/pixelhook_VERSION_amd64.deb            /usr/bin/pixelhook, /etc/pixelhook, the systemd
#                                               units, logrotate, web server snippets (packaging/)
# VERSION is what `pixelhook --version` prints (one place: Sources/pixelhook/Version.swift).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

[[ $(uname -m) == x86_64 ]] || { echo "package.sh: builds x86_64/amd64 artifacts only (this is $(uname -m))" >&2; exit 1; }
echo "== building the static binary (scripts/build-static.sh)" >&2
built=$(bash scripts/build-static.sh)
version=$("$built" --version | sed -n 's/^pixelhook \([0-9][^ ]*\)$/\1/p')
[[ $version =~ ^[0-9][A-Za-z0-9.+~-]*$ ]] || { echo "package.sh: bad version '$version'" >&2; exit 1; }

stage=$(mktemp -d /tmp/pixelhook-package.XXXXXX)
trap 'rm -rf "$stage"' EXIT
mkdir -p dist

# Copies examples/ with the modes git gives them (handlers executable), whatever the umask.
copy_examples() { # copy_examples DESTINATION
    cp -R examples "$1/examples"
    chmod -R u=rwX,go=rX "$1/examples"
}

echo "== tarball" >&2
name=pixelhook-$version-linux-x86_64
tree=$stage/$name
mkdir -p "$tree/snippets"
strip -o "$tree/pixelhook" "$built"
chmod 0755 "$tree/pixelhook"
copy_examples "$tree"
cp README.md nginx.conf.example lighttpd.conf.example "$tree/"
cp -R docs "$tree/docs"
[[ ! -f apache.conf.example ]] || cp apache.conf.example "$tree/"
cp packaging/pixelhook.conf "$tree/pixelhook.conf.example"
cp -R packaging/nginx packaging/lighttpd packaging/apache2 "$tree/snippets/"
tar -C "$stage" --owner=0 --group=0 --numeric-owner --sort=name -czf "dist/$name.tar.gz" "$name"

echo "== .deb" >&2
root=$stage/deb
install -D -m 0755 "$tree/pixelhook" "$root/usr/bin/pixelhook"
install -D -m 0640 packaging/pixelhook.conf "$root/etc/pixelhook/pixelhook.conf"
install -d -m 0755 "$root/etc/pixelhook/handlers"
for handler in examples/handlers/*; do
    mode=0755
    [[ $handler == */handlers.env ]] && mode=0640
    install -m "$mode" "$handler" "$root/etc/pixelhook/handlers/"
done
for unit in examples/systemd/*; do install -D -m 0644 "$unit" "$root/lib/systemd/system/${unit##*/}"; done
install -D -m 0644 packaging/logrotate/pixelhook "$root/etc/logrotate.d/pixelhook"
install -D -m 0644 packaging/nginx/conf.d/pixelhook.conf "$root/etc/nginx/conf.d/pixelhook.conf"
install -D -m 0644 -t "$root/etc/nginx/snippets" packaging/nginx/snippets/*.conf
install -D -m 0644 -t "$root/etc/lighttpd/conf-available" packaging/lighttpd/*.conf
install -D -m 0644 -t "$root/etc/apache2/conf-available" packaging/apache2/*.conf
doc=$root/usr/share/doc/pixelhook
install -d -m 0755 "$doc"
gzip -9n < README.md > "$doc/README.md.gz"
cp -R docs "$doc/docs" && chmod -R u=rwX,go=rX "$doc/docs"
install -m 0644 packaging/deb/copyright "$doc/copyright"
sed "s/@VERSION@/$version/" packaging/deb/changelog | gzip -9n > "$doc/changelog.gz"
install -D -m 0644 packaging/deb/lintian-overrides "$root/usr/share/lintian/overrides/pixelhook"
copy_examples "$doc"
cp nginx.conf.example lighttpd.conf.example "$doc/examples/"
[[ ! -f apache.conf.example ]] || cp apache.conf.example "$doc/examples/"
chmod 0644 "$doc"/examples/*.example

mkdir -p "$root/DEBIAN"
install -m 0755 packaging/deb/postinst packaging/deb/prerm packaging/deb/postrm "$root/DEBIAN/"
(cd "$root" && find etc -type f | sort | sed 's|^|/|') > "$root/DEBIAN/conffiles"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@SIZE@/$size/" packaging/deb/control.in > "$root/DEBIAN/control"
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -print | sed 's|^\./||' | sort | xargs md5sum) > "$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/conffiles" "$root/DEBIAN/md5sums"
deb=dist/pixelhook_${version}_amd64.deb
dpkg-deb --build --root-owner-group -Zxz "$root" "$deb" >&2

echo "$PWD/dist/$name.tar.gz"
echo "$PWD/$deb"
