-- HMAC-SHA256 and SHA-256 through LuaJIT FFI to OpenSSL's libcrypto, and fast base64url.
local ffi = require "ffi"

local ngx = ngx
local pcall = pcall
local ipairs = ipairs
local error = error
local byte = string.byte
local format = string.format
local gsub = string.gsub
local rep = string.rep
local ffi_new = ffi.new
local ffi_str = ffi.string
local encode_base64 = ngx.encode_base64
local decode_base64 = ngx.decode_base64


local _M = {}


pcall(ffi.cdef, [[
typedef struct evp_md_st EVP_MD;
const EVP_MD *EVP_sha256(void);
unsigned char *HMAC(const EVP_MD *evp_md, const void *key, int key_len,
                    const unsigned char *d, size_t n, unsigned char *md, unsigned int *md_len);
unsigned char *SHA256(const unsigned char *d, size_t n, unsigned char *md);
]])


local function has_symbols(lib)
    return pcall(function()
        return lib.EVP_sha256 and lib.HMAC and lib.SHA256
    end)
end


local function load_libcrypto()
    if has_symbols(ffi.C) then
        return ffi.C
    end
    for _, name in ipairs({ "libcrypto.so.3", "crypto" }) do
        local ok, lib = pcall(ffi.load, name)
        if ok and has_symbols(lib) then
            return lib
        end
    end
    error("failed to load libcrypto: tried ffi.C, libcrypto.so.3, crypto")
end


local C = load_libcrypto()
local SHA256_MD = C.EVP_sha256()
local md_buf = ffi_new("unsigned char[32]")
local md_len = ffi_new("unsigned int[1]")
local HEX32 = rep("%02x", 32)


-- Raw 32-byte HMAC-SHA256 of msg under key.
function _M.hmac_sha256(key, msg)
    if C.HMAC(SHA256_MD, key, #key, msg, #msg, md_buf, md_len) == nil then
        return nil, "HMAC failed"
    end
    return ffi_str(md_buf, 32)
end


-- Lowercase hex SHA-256 (the API token digest of docs/redis-schema.md).
function _M.sha256_hex(s)
    C.SHA256(s, #s, md_buf)
    return format(HEX32, byte(ffi_str(md_buf, 32), 1, 32))
end


local TO_URL = { ["+"] = "-", ["/"] = "_" }
local FROM_URL = { ["-"] = "+", ["_"] = "/" }
local PAD = { "", "==", "=" }  -- by #s % 4: 0 -> "", 2 -> "==", 3 -> "="


local function b64url_encode(s)
    return (gsub(encode_base64(s, true), "[+/]", TO_URL))
end


local function b64url_decode(s)
    local r = #s % 4
    if r == 1 or (gsub(s, "[%w_%-]", "")) ~= "" then
        return nil
    end
    return decode_base64((gsub(s, "[-_]", FROM_URL)) .. (r == 0 and "" or PAD[r]))
end


_M.b64url = { encode = b64url_encode, decode = b64url_decode }


return _M
