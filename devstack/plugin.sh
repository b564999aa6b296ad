#!/bin/bash
#
# plugin.sh - devstack plugin of sodos: one site of a federation of
# OpenStack sites. Enable it in local.conf (see devstack/README.rst):
#
#     enable_plugin sodos <git URL of sodos> [branch]

# shellcheck source=devstack/lib/sodos
source "$(dirname "${BASH_SOURCE[0]}")/lib/sodos"

if is_sodos_enabled; then
    if [[ "$1" == "stack" && "$2" == "install" ]]; then
        echo_summary "Installing sodos"
        install_sodos
    elif [[ "$1" == "stack" && "$2" == "post-config" ]]; then
        echo_summary "Configuring sodos"
        configure_sodos
        if is_service_enabled keystone; then
            create_sodos_accounts
        fi
        init_sodos
    elif [[ "$1" == "stack" && "$2" == "extra" ]]; then
        echo_summary "Starting sodos"
        start_sodos
    fi

    if [[ "$1" == "unstack" ]]; then
        stop_sodos
    fi

    if [[ "$1" == "clean" ]]; then
        cleanup_sodos
    fi
fi
