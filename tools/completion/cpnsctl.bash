# SPDX-License-Identifier: GPL-2.0
# bash completion for cpnsctl(8)

_cpnsctl_ids()
{
	# local IDs and peers of the namespace, when cpnsctl can read them
	cpnsctl "${_cpnsctl_nsopt[@]}" id show 2>/dev/null
	cpnsctl "${_cpnsctl_nsopt[@]}" peer show 2>/dev/null | cut -d' ' -f1
}

_cpnsctl()
{
	local cur prev words cword
	_init_completion || return

	local objects="info link id peer route session stats monitor enroll connect agent help"
	local i obj= cmd= objidx=0
	_cpnsctl_nsopt=()

	# skip options to find OBJECT and COMMAND
	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		-n|--netns)
			_cpnsctl_nsopt=(-n "${words[i + 1]}")
			((i++))
			;;
		-b|--batch) ((i++)) ;;
		-*) ;;
		*)
			if [[ -z $obj ]]; then
				obj=${words[i]}
				objidx=$i
			elif [[ -z $cmd ]]; then
				cmd=${words[i]}
				break
			fi
			;;
		esac
	done

	case $prev in
	-n|--netns)
		COMPREPLY=($(compgen -W "$(ip netns list 2>/dev/null | cut -d' ' -f1)" -- "$cur"))
		return
		;;
	-b|--batch|tx-secret|rx-secret)
		_filedir
		[[ $prev == ?x-secret ]] && COMPREPLY+=($(compgen -W "- fd:" -- "$cur"))
		return
		;;
	local|peer|via)
		if [[ -n $obj && $objidx -lt $((cword - 1)) ]]; then
			COMPREPLY=($(compgen -W "$(_cpnsctl_ids)" -- "$cur"))
			return
		fi
		;;
	forwarding|learn|uplink)
		COMPREPLY=($(compgen -W "on off" -- "$cur"))
		return
		;;
	suite)
		COMPREPLY=($(compgen -W "aes256gcm chacha20poly1305" -- "$cur"))
		return
		;;
	role)
		COMPREPLY=($(compgen -W "initiator responder" -- "$cur"))
		return
		;;
	mode)
		COMPREPLY=($(compgen -W "immediate on-confirm" -- "$cur"))
		return
		;;
	port|generation|endpoint)
		return
		;;
	esac

	if [[ -z $obj ]]; then
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "-j -p -s -d -n -b -V -h --json --pretty --statistics --details --netns --batch --version --help" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$objects" -- "$cur"))
		fi
		return
	fi

	# handshake commands: keyword-value pairs from the object on
	case $obj in
	enroll|connect|agent)
		case $prev in
		password-file|state-dir) _filedir; return ;;
		mode) COMPREPLY=($(compgen -W "psk-dhe psk" -- "$cur")); return ;;
		log) COMPREPLY=($(compgen -W "syslog stderr" -- "$cur")); return ;;
		server|endpoint|user|local|rekey-after) return ;;
		esac
		case $obj in
		enroll) kw="server endpoint user password-file local state-dir" ;;
		connect) kw="server endpoint state-dir mode" ;;
		agent) kw="server endpoint state-dir mode rekey-after log" ;;
		esac
		COMPREPLY=($(compgen -W "$kw help" -- "$cur"))
		return
		;;
	esac

	if [[ -z $cmd ]]; then
		case $obj in
		link) COMPREPLY=($(compgen -W "show set help" -- "$cur")) ;;
		id|route) COMPREPLY=($(compgen -W "add del show help" -- "$cur")) ;;
		peer) COMPREPLY=($(compgen -W "set del show help" -- "$cur")) ;;
		session) COMPREPLY=($(compgen -W "add del show flush help" -- "$cur")) ;;
		stats) COMPREPLY=($(compgen -W "show reset help" -- "$cur")) ;;
		info|monitor) COMPREPLY=($(compgen -W "help" -- "$cur")) ;;
		esac
		return
	fi

	# keywords of COMMAND not given yet
	local kw= w
	case "$obj $cmd" in
	"link set") kw="port forwarding" ;;
	"peer set") ((cword > objidx + 2)) && kw="endpoint learn uplink" ;;
	"route add") ((cword == objidx + 3)) && kw="via endpoint"
		[[ ${words[cword - 2]} == endpoint ]] && kw="learn" ;;
	"session add") kw="local peer generation suite role mode tx-secret rx-secret" ;;
	"session del") kw="local peer generation" ;;
	"session show") kw="local peer" ;;
	"session flush") kw="local" ;;
	"id del"|"peer del"|"peer show"|"route del")
		((cword == objidx + 2)) &&
			COMPREPLY=($(compgen -W "$(_cpnsctl_ids)" -- "$cur"))
		return
		;;
	esac
	for w in "${words[@]:objidx+2:cword-objidx-2}"; do
		kw=" $kw "
		kw=${kw// $w / }
	done
	COMPREPLY=($(compgen -W "$kw" -- "$cur"))
}
complete -F _cpnsctl cpnsctl
