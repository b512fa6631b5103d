// The CDN host's own counters for Prometheus, kept in nginx itself (njs, nginx's
// scripting module, in the official image and in Debian's libnginx-mod-http-js): what
// the stub_status exporter cannot tell, where each answer came from.
//   local        a static file, held on this host since the build
//   hit          a member's picture, from this host's read-through cache
//   miss, expired, stale, updating, revalidated, bypass
//                as $upstream_cache_status says: the origin was asked, or could not be
// The counters live in a shared memory zone (cdn.conf), so every worker adds to them.
// Reference: https://nginx.org/en/docs/njs/reference.html#ngx_shared

function count(r) {
    // A header filter: once per answer, as its headers go out.
    const source = (r.variables.upstream_cache_status || "local").toLowerCase();
    const code = Math.floor(r.status / 100) + "xx";
    ngx.shared.cdn.incr(source + " " + code, 1, 0);
}

function metrics(r) {
    const lines = [
        "# HELP cdn_requests_total Answers of the CDN host, by where they came from and status class.",
        "# TYPE cdn_requests_total counter",
    ];
    const items = ngx.shared.cdn.items();
    for (let i = 0; i < items.length; i++) {
        const parts = items[i][0].split(" ");
        lines.push('cdn_requests_total{source="' + parts[0] + '",code="' + parts[1] + '"} ' + items[i][1]);
    }
    r.headersOut["Content-Type"] = "text/plain; version=0.0.4";
    r.return(200, lines.join("\n") + "\n");
}

export default { count, metrics };
