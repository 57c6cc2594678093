#!/bin/sh
# Installs bulutpop for the current user, from the folder this script is in (the bundle
# that `scripts/build` makes, or its release archive unpacked). No root needed.
#
#   ./install.sh                   install or upgrade
#   ./install.sh --no-default      …without making bulutpop the handler of tel:/callto:
#   ./install.sh --uninstall       remove the app; keep settings, call history, API key
#   ./install.sh --uninstall --purge   …and remove those too
#
# Where things go (XDG_DATA_HOME and XDG_CONFIG_HOME are honoured):
#   ~/.local/lib/bulutpop/                      the app
#   ~/.local/bin/bulutpop                       a link to it
#   ~/.local/share/applications/bulutpop.desktop     menu entry; tel: and callto: handler
#   ~/.local/share/metainfo/io.github.bulutpop.metainfo.xml
#   ~/.local/share/icons/hicolor/*/apps/bulutpop.{png,svg}
set -eu

app=bulutpop
desktop=bulutpop.desktop
metainfo=io.github.bulutpop.metainfo.xml
schemes="x-scheme-handler/tel x-scheme-handler/callto"

prefix=${BULUTPOP_PREFIX:-$HOME/.local}
lib=$prefix/lib/$app
bin=$prefix/bin
share=${XDG_DATA_HOME:-$HOME/.local/share}
config=${XDG_CONFIG_HOME:-$HOME/.config}

usage() {
    sed -n '2,9s/^# \{0,1\}//p' "$0"
}

say() {
    printf '%s\n' "$*"
}

die() {
    printf 'install.sh: %s\n' "$*" >&2
    exit 1
}

# The Exec value of a desktop entry for one program path: quoted, with the characters
# that the Desktop Entry spec reserves inside quotes escaped (then backslashes doubled,
# as the value is also a string), and % doubled (it starts field codes).
exec_value() {
    printf '"%s" %%u' "$(printf '%s' "$1" | sed -e 's/%/%%/g' -e 's/[\\"`$]/\\\\&/g')"
}

# Processes running the installed app, by id (from /proc; nothing on systems without it).
running_pids() {
    for link in /proc/[0-9]*/exe; do
        target=$(readlink "$link" 2>/dev/null) || continue
        case $target in
            "$lib/$app" | "$lib/$app (deleted)")
                pid=${link#/proc/}
                printf '%s\n' "${pid%/exe}"
                ;;
        esac
    done
}

# Sets the default handler in mimeapps.list when xdg-mime (xdg-utils) is missing.
set_default_handler() {
    if command -v xdg-mime >/dev/null 2>&1; then
        # shellcheck disable=SC2086  # one argument per scheme
        xdg-mime default "$desktop" $schemes && return 0
    fi
    list=$config/mimeapps.list
    mkdir -p "$config"
    [ -f "$list" ] || printf '[Default Applications]\n' >"$list"
    awk -v schemes="$schemes" -v desktop="$desktop" '
        BEGIN { n = split(schemes, s, " ") }
        function emit(   i) { for (i = 1; i <= n; i++) print s[i] "=" desktop; done = 1 }
        /^\[/ { section = $0; print; if (section == "[Default Applications]") emit(); next }
        section == "[Default Applications]" {
            for (i = 1; i <= n; i++) if (index($0, s[i] "=") == 1) next
        }
        { print }
        END { if (!done) { print "[Default Applications]"; emit() } }
    ' "$list" >"$list.tmp" && mv "$list.tmp" "$list"
}

# Removes our lines from mimeapps.list (xdg-mime has no command for that).
unset_default_handler() {
    list=$config/mimeapps.list
    [ -f "$list" ] || return 0
    awk -v schemes="$schemes" -v desktop="$desktop" '
        BEGIN { n = split(schemes, s, " ") }
        { for (i = 1; i <= n; i++) if ($0 == s[i] "=" desktop) next; print }
    ' "$list" >"$list.tmp" && mv "$list.tmp" "$list"
}

refresh_caches() {
    if command -v update-desktop-database >/dev/null 2>&1; then
        update-desktop-database -q "$share/applications" || true
    fi
    # The icon theme spec: a changed directory time tells desktops to rescan. A cache
    # that somebody built here would hide new icons until it is rebuilt.
    touch "$share/icons/hicolor" 2>/dev/null || true
    if [ -f "$share/icons/hicolor/icon-theme.cache" ] && command -v gtk-update-icon-cache >/dev/null 2>&1; then
        gtk-update-icon-cache -q -t -f "$share/icons/hicolor" || true
    fi
}

install_app() {
    here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd -P)
    if [ ! -x "$here/$app" ] || [ ! -d "$here/share/applications" ]; then
        die "$here is not a bulutpop bundle (expected $app and share/ beside this script)"
    fi
    installed=$(CDPATH='' cd -- "$lib" 2>/dev/null && pwd -P) || installed=""
    if [ "$here" != "$installed" ]; then
        mkdir -p "$prefix/lib"
        rm -rf "$lib.new" "$lib.old"
        cp -R "$here" "$lib.new"
        [ -e "$lib" ] && mv "$lib" "$lib.old"
        mv "$lib.new" "$lib"
        rm -rf "$lib.old"
    fi
    "$lib/$app" --version >/dev/null || die "the installed app does not start: $lib/$app"

    mkdir -p "$bin"
    ln -sfn "$lib/$app" "$bin/$app"

    mkdir -p "$share/applications" "$share/metainfo"
    value=$(exec_value "$lib/$app")
    # Through the environment: sed would read & and \ in a replacement, awk -v escapes.
    EXEC_VALUE=$value awk '/^Exec=/ { print "Exec=" ENVIRON["EXEC_VALUE"]; next } { print }' \
        "$lib/share/applications/$desktop" >"$share/applications/$desktop.tmp"
    mv "$share/applications/$desktop.tmp" "$share/applications/$desktop"
    cp "$lib/share/metainfo/$metainfo" "$share/metainfo/$metainfo"
    (cd "$lib/share/icons" && find hicolor -name "$app.*") | while read -r icon; do
        mkdir -p "$share/icons/$(dirname "$icon")"
        cp "$lib/share/icons/$icon" "$share/icons/$icon"
    done

    [ "$set_default" = yes ] && set_default_handler
    refresh_caches

    say "Installed $("$lib/$app" --version) in $lib"
    [ "$set_default" = yes ] && say "tel: and callto: links now open bulutpop."
    [ -n "$(running_pids)" ] && say "bulutpop is running: quit it and start it again to use this version."
    case ":$PATH:" in
        *":$bin:"*) ;;
        *) say "Note: $bin is not on your PATH; start bulutpop from the applications menu." ;;
    esac
    return 0
}

uninstall_app() {
    pids=$(running_pids)
    if [ -n "$pids" ]; then
        say "Stopping the running bulutpop ($pids)"
        # shellcheck disable=SC2086  # one argument per id
        kill -TERM $pids 2>/dev/null || true
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            [ -z "$(running_pids)" ] && break
            sleep 1
        done
    fi
    if [ "$purge" = yes ] && [ -x "$lib/$app" ]; then
        # The API key and the team secret live in the system keyring, not in files.
        "$lib/$app" key delete --all || say "Could not delete the secrets from the keyring."
    fi
    autostart=$config/autostart/$desktop
    if [ -f "$autostart" ] && grep -q "$lib/$app" "$autostart"; then
        rm -f "$autostart"
    fi
    unset_default_handler
    rm -f "$share/applications/$desktop" "$share/metainfo/$metainfo"
    for icon in "$share"/icons/hicolor/*/apps/"$app".png "$share"/icons/hicolor/*/apps/"$app".svg; do
        [ -e "$icon" ] || continue
        rm -f "$icon"
        # Folders that held only our icon (rmdir leaves any other alone).
        rmdir "${icon%/*}" "${icon%/*/*}" 2>/dev/null || true
    done
    if [ -L "$bin/$app" ]; then
        rm -f "$bin/$app"
    fi
    rm -rf "$lib" "$lib.new" "$lib.old"
    refresh_caches
    if [ "$purge" = yes ]; then
        # Where the app keeps them (platformdirs; BULUTPOP_* override, as in the app).
        rm -rf "${BULUTPOP_CONFIG_DIR:-$config/$app}" \
            "${BULUTPOP_DATA_DIR:-$share/$app}" \
            "${XDG_CACHE_HOME:-$HOME/.cache}/$app"
        say "bulutpop, its settings, call history and API key are removed."
    else
        say "bulutpop is removed. Settings and call history are kept" \
            "(remove them too with: $0 --uninstall --purge)."
    fi
}

action=install
set_default=yes
purge=no
for arg in "$@"; do
    case $arg in
        --uninstall) action=uninstall ;;
        --purge) purge=yes ;;
        --no-default) set_default=no ;;
        -h | --help)
            usage
            exit 0
            ;;
        *) die "unknown option $arg (see --help)" ;;
    esac
done
[ "$purge" = no ] || [ "$action" = uninstall ] || die "--purge goes with --uninstall"

if [ "$action" = install ]; then
    install_app
else
    uninstall_app
fi
