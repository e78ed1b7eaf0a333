#!/usr/bin/python3
"""A minimal CRI (Kubernetes Container Runtime Interface, runtime.v1) client, as kubelet talks to
a container runtime: one unary call on the RuntimeService, the request given as JSON, the
response printed as JSON.

usage: cri.py [--timeout SECONDS] SOCKET METHOD [REQUEST_JSON]
  e.g. cri.py /run/containerd.sock RunPodSandbox '{"config": {...}, "runtime_handler": "runrs"}'

Only the messages and fields the tests use are defined, built at run time from a descriptor
declared here (no protoc, no generated code); their names and numbers are those of the real
CRI v1 API (k8s.io/cri-api/pkg/apis/runtime/v1/api.proto), so the wire format is kubelet's.
Fields a response carries that are not declared here are skipped. A failed call prints the gRPC
status code and details on stderr and exits with 1.

Needs Debian's python3-grpcio and python3-protobuf.
"""
import json
import sys

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory

PACKAGE = "runtime.v1"
F = descriptor_pb2.FieldDescriptorProto

# Enums: name -> [(value name, number)].
ENUMS = {
    "NamespaceMode": [("POD", 0), ("CONTAINER", 1), ("NODE", 2), ("TARGET", 3)],
    "PodSandboxState": [("SANDBOX_READY", 0), ("SANDBOX_NOTREADY", 1)],
    "ContainerState": [("CONTAINER_CREATED", 0), ("CONTAINER_RUNNING", 1),
                       ("CONTAINER_EXITED", 2), ("CONTAINER_UNKNOWN", 3)],
}


def s(name, number):
    return (name, number, F.TYPE_STRING, None, False)


def rs(name, number):
    return (name, number, F.TYPE_STRING, None, True)


def i32(name, number):
    return (name, number, F.TYPE_INT32, None, False)


def u32(name, number):
    return (name, number, F.TYPE_UINT32, None, False)


def i64(name, number):
    return (name, number, F.TYPE_INT64, None, False)


def b(name, number):
    return (name, number, F.TYPE_BOOL, None, False)


def m(name, number, type_name, repeated=False):
    return (name, number, F.TYPE_MESSAGE, type_name, repeated)


def e(name, number, type_name):
    return (name, number, F.TYPE_ENUM, type_name, False)


# Messages: name -> fields (name, number, type, message/enum type name, repeated).
MESSAGES = {
    "VersionRequest": [s("version", 1)],
    "VersionResponse": [s("version", 1), s("runtime_name", 2), s("runtime_version", 3),
                        s("runtime_api_version", 4)],
    "NamespaceOption": [e("network", 1, "NamespaceMode"), e("pid", 2, "NamespaceMode"),
                        e("ipc", 3, "NamespaceMode"), s("target_id", 4)],
    "LinuxSandboxSecurityContext": [m("namespace_options", 1, "NamespaceOption")],
    "LinuxPodSandboxConfig": [s("cgroup_parent", 1),
                              m("security_context", 2, "LinuxSandboxSecurityContext")],
    "PodSandboxMetadata": [s("name", 1), s("uid", 2), s("namespace", 3), u32("attempt", 4)],
    "PodSandboxConfig": [m("metadata", 1, "PodSandboxMetadata"), s("hostname", 2),
                         s("log_directory", 3), m("linux", 8, "LinuxPodSandboxConfig")],
    "RunPodSandboxRequest": [m("config", 1, "PodSandboxConfig"), s("runtime_handler", 2)],
    "RunPodSandboxResponse": [s("pod_sandbox_id", 1)],
    "StopPodSandboxRequest": [s("pod_sandbox_id", 1)],
    "StopPodSandboxResponse": [],
    "RemovePodSandboxRequest": [s("pod_sandbox_id", 1)],
    "RemovePodSandboxResponse": [],
    "PodSandboxStatusRequest": [s("pod_sandbox_id", 1), b("verbose", 2)],
    "PodSandboxStatus": [s("id", 1), m("metadata", 2, "PodSandboxMetadata"),
                         e("state", 3, "PodSandboxState"), i64("created_at", 4),
                         s("runtime_handler", 9)],
    "PodSandboxStatusResponse": [m("status", 1, "PodSandboxStatus")],
    "ImageSpec": [s("image", 1)],
    "KeyValue": [s("key", 1), s("value", 2)],
    "LinuxContainerSecurityContext": [m("namespace_options", 3, "NamespaceOption")],
    "LinuxContainerConfig": [m("security_context", 2, "LinuxContainerSecurityContext")],
    "ContainerMetadata": [s("name", 1), u32("attempt", 2)],
    "ContainerConfig": [m("metadata", 1, "ContainerMetadata"), m("image", 2, "ImageSpec"),
                        rs("command", 3), rs("args", 4), s("working_dir", 5),
                        m("envs", 6, "KeyValue", repeated=True), s("log_path", 11),
                        m("linux", 15, "LinuxContainerConfig")],
    "CreateContainerRequest": [s("pod_sandbox_id", 1), m("config", 2, "ContainerConfig"),
                               m("sandbox_config", 3, "PodSandboxConfig")],
    "CreateContainerResponse": [s("container_id", 1)],
    "StartContainerRequest": [s("container_id", 1)],
    "StartContainerResponse": [],
    "ContainerStatusRequest": [s("container_id", 1), b("verbose", 2)],
    "ContainerStatus": [s("id", 1), m("metadata", 2, "ContainerMetadata"),
                        e("state", 3, "ContainerState"), i64("created_at", 4),
                        i64("started_at", 5), i64("finished_at", 6), i32("exit_code", 7),
                        m("image", 8, "ImageSpec"), s("image_ref", 9), s("reason", 10),
                        s("message", 11), s("log_path", 15)],
    "ContainerStatusResponse": [m("status", 1, "ContainerStatus")],
}

# RuntimeService methods: name -> (request, response).
METHODS = {
    "Version": ("VersionRequest", "VersionResponse"),
    "RunPodSandbox": ("RunPodSandboxRequest", "RunPodSandboxResponse"),
    "StopPodSandbox": ("StopPodSandboxRequest", "StopPodSandboxResponse"),
    "RemovePodSandbox": ("RemovePodSandboxRequest", "RemovePodSandboxResponse"),
    "PodSandboxStatus": ("PodSandboxStatusRequest", "PodSandboxStatusResponse"),
    "CreateContainer": ("CreateContainerRequest", "CreateContainerResponse"),
    "StartContainer": ("StartContainerRequest", "StartContainerResponse"),
    "ContainerStatus": ("ContainerStatusRequest", "ContainerStatusResponse"),
}


def message_classes():
    fd = descriptor_pb2.FileDescriptorProto(name="runrs_tests_cri.proto", package=PACKAGE,
                                            syntax="proto3")
    for name, values in ENUMS.items():
        en = fd.enum_type.add(name=name)
        for vname, number in values:
            en.value.add(name=vname, number=number)
    for name, fields in MESSAGES.items():
        msg = fd.message_type.add(name=name)
        for fname, number, ftype, type_name, repeated in fields:
            f = msg.field.add(name=fname, number=number, type=ftype,
                              label=F.LABEL_REPEATED if repeated else F.LABEL_OPTIONAL)
            if type_name:
                f.type_name = "." + PACKAGE + "." + type_name
    pool = descriptor_pool.DescriptorPool()
    pool.AddSerializedFile(fd.SerializeToString())
    file_desc = pool.FindFileByName(fd.name)
    classes = {}
    for name in MESSAGES:
        desc = file_desc.message_types_by_name[name]
        if hasattr(message_factory, "GetMessageClass"):
            classes[name] = message_factory.GetMessageClass(desc)
        else:  # protobuf < 4.22 (Debian 12 has 3.21)
            classes[name] = message_factory.MessageFactory(pool).GetPrototype(desc)
    return classes


def to_json(msg):
    try:
        d = json_format.MessageToDict(msg, preserving_proto_field_name=True,
                                      always_print_fields_with_no_presence=True)
    except TypeError:  # protobuf < 5.26
        d = json_format.MessageToDict(msg, preserving_proto_field_name=True,
                                      including_default_value_fields=True)
    return json.dumps(d, sort_keys=True)


def main():
    args = sys.argv[1:]
    timeout = 15.0
    if args[:1] == ["--timeout"] and len(args) > 1:
        timeout, args = float(args[1]), args[2:]
    if len(args) not in (2, 3) or args[1] not in METHODS:
        sys.exit(__doc__ + "\nmethods: " + " ".join(METHODS))
    sock, method = args[0], args[1]
    body = args[2] if len(args) == 3 else "{}"
    classes = message_classes()
    req_name, resp_name = METHODS[method]
    request = json_format.Parse(body, classes[req_name]())
    with grpc.insecure_channel("unix://" + sock) as channel:
        call = channel.unary_unary(
            "/runtime.v1.RuntimeService/" + method,
            request_serializer=lambda r: r.SerializeToString(),
            response_deserializer=classes[resp_name].FromString,
        )
        try:
            response = call(request, timeout=timeout)
        except grpc.RpcError as err:
            print(f"{method}: {err.code().name}: {err.details()}", file=sys.stderr)
            sys.exit(1)
    print(to_json(response))


main()
