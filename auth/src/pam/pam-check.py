# The PAM authenticator's helper: checks one login with the machine's PAM stack (libpam through
# ctypes, no module beyond Python's own) and answers one JSON line. Reads {"service", "user",
# "password", "account"} as JSON on stdin, never from arguments or the environment, and prints
# nothing of the password. "account": also run the account checks (pam_acct_mgmt: expired, locked).
import ctypes
import ctypes.util
import grp
import json
import os
import pwd
import sys

PAM_PROMPT_ECHO_OFF = 1
PAM_PROMPT_ECHO_ON = 2


class Message(ctypes.Structure):
    _fields_ = [("msg_style", ctypes.c_int), ("msg", ctypes.c_char_p)]


class Response(ctypes.Structure):
    _fields_ = [("resp", ctypes.c_char_p), ("resp_retcode", ctypes.c_int)]


Conversation = ctypes.CFUNCTYPE(
    ctypes.c_int,
    ctypes.c_int,
    ctypes.POINTER(ctypes.POINTER(Message)),
    ctypes.POINTER(ctypes.POINTER(Response)),
    ctypes.c_void_p,
)


class Conv(ctypes.Structure):
    _fields_ = [("conv", Conversation), ("appdata_ptr", ctypes.c_void_p)]


def main():
    req = json.loads(sys.stdin.readline())
    libpam = ctypes.CDLL(ctypes.util.find_library("pam") or "libpam.so.0")
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    libc.calloc.restype = ctypes.c_void_p
    libc.calloc.argtypes = [ctypes.c_size_t, ctypes.c_size_t]
    libc.strdup.restype = ctypes.c_void_p
    libc.strdup.argtypes = [ctypes.c_char_p]
    libpam.pam_start.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(Conv), ctypes.POINTER(ctypes.c_void_p)]
    libpam.pam_authenticate.argtypes = [ctypes.c_void_p, ctypes.c_int]
    libpam.pam_acct_mgmt.argtypes = [ctypes.c_void_p, ctypes.c_int]
    libpam.pam_end.argtypes = [ctypes.c_void_p, ctypes.c_int]
    libpam.pam_strerror.argtypes = [ctypes.c_void_p, ctypes.c_int]
    libpam.pam_strerror.restype = ctypes.c_char_p
    secret = req["password"].encode()

    @Conversation
    def answer(n, messages, responses, _data):
        # the modules free what is handed to them: every answer is malloc'ed
        out = libc.calloc(n, ctypes.sizeof(Response))
        if not out:
            return 5  # PAM_BUF_ERR
        replies = ctypes.cast(out, ctypes.POINTER(Response))
        for i in range(n):
            if messages[i].contents.msg_style in (PAM_PROMPT_ECHO_OFF, PAM_PROMPT_ECHO_ON):
                replies[i].resp = ctypes.cast(libc.strdup(secret), ctypes.c_char_p)
                replies[i].resp_retcode = 0
        responses[0] = replies
        return 0

    handle = ctypes.c_void_p()
    conv = Conv(answer, None)
    rv = libpam.pam_start(req["service"].encode(), req["user"].encode(), ctypes.byref(conv), ctypes.byref(handle))
    if rv != 0:
        return {"ok": False, "stage": "start", "reason": "PAM could not start"}
    try:
        rv = libpam.pam_authenticate(handle, 0)
        if rv != 0:
            return {"ok": False, "stage": "auth", "reason": libpam.pam_strerror(handle, rv).decode()}
        if req.get("account", True):
            rv = libpam.pam_acct_mgmt(handle, 0)
            if rv != 0:
                return {"ok": False, "stage": "account", "reason": libpam.pam_strerror(handle, rv).decode()}
    finally:
        libpam.pam_end(handle, rv)
    account = pwd.getpwnam(req["user"])
    groups = sorted({grp.getgrgid(g).gr_name for g in os.getgrouplist(account.pw_name, account.pw_gid)})
    return {"ok": True, "groups": groups}


if __name__ == "__main__":
    try:
        result = main()
    except Exception as err:  # noqa: BLE001 - one line for the hub, whatever went wrong
        result = {"ok": False, "stage": "helper", "reason": type(err).__name__}
    sys.stdout.write(json.dumps(result) + "\n")
