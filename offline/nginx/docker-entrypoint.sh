#!/bin/sh
# Entrypoint with the official nginx image's hooks, run only when starting nginx:
#  - executable /docker-entrypoint.d/*.sh are run, *.envsh are sourced;
#  - /etc/nginx/templates/**/*.template are rendered with envsubst into
#    /etc/nginx/conf.d (only variables set in the environment are replaced).
set -e

if [ "$1" = nginx ] || [ "$1" = nginx-debug ]; then
  for f in /docker-entrypoint.d/*; do
    if [ ! -x "$f" ]; then continue; fi
    case "$f" in
      *.envsh) echo "$0: sourcing $f"; . "$f" ;;
      *.sh)    echo "$0: launching $f"; "$f" ;;
    esac
  done

  tdir="${NGINX_ENVSUBST_TEMPLATE_DIR:-/etc/nginx/templates}"
  suffix="${NGINX_ENVSUBST_TEMPLATE_SUFFIX:-.template}"
  odir="${NGINX_ENVSUBST_OUTPUT_DIR:-/etc/nginx/conf.d}"
  if [ -d "$tdir" ] && [ ! -w "$odir" ]; then
    echo "$0: $tdir exists, but $odir is not writable: templates skipped" >&2
  elif [ -d "$tdir" ]; then
    vars="$(awk 'END { for (n in ENVIRON) printf "${%s} ", n }' </dev/null)"
    find "$tdir" -follow -type f -name "*$suffix" | while read -r t; do
      out="$odir/${t#"$tdir"/}"; out="${out%"$suffix"}"
      mkdir -p "$(dirname "$out")"
      echo "$0: rendering $t to $out"
      envsubst "$vars" <"$t" >"$out"
    done
  fi
fi

exec "$@"
