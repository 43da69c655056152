# The install stage's libpython probe (xtask/src/install.rs; sh -c, after its PRELUDE, in
# target/probes): links and runs a C program against the libpython $PYO3_PYTHON names, as
# pychrony-py's Rust unit tests do; prints its path (or why there is nothing to load).
v=$($PYO3_PYTHON -c "import sysconfig as s; print(s.get_config_var('LIBDIR'), s.get_config_var('LDLIBRARY'))") || exit
dir=${v%% *} lib=${v#* }; name=${lib#lib}; name=${name%.so}
case $lib in lib*.so) ;; *) echo "$lib (not a shared libpython: nothing to load)"; exit;; esac
printf '%s\n' 'extern const char *Py_GetVersion(void);' 'int main(void) { return Py_GetVersion()[0] == 0; }' |
    $CC -x c - -o probe-libpython -L"$dir" -l"$name" &&
    LD_LIBRARY_PATH="$dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" ./probe-libpython && echo "$dir/$lib"
