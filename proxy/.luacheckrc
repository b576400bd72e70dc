-- luacheck config for the edge proxy's Lua (run from proxy/: `luacheck lua spec`).
std = "ngx_lua"
max_line_length = 120
codes = true

files["spec/"] = {
    std = "+busted",
}
